//! Image builds: the context streamed as the request body, the build output as it comes.

//! Image archives: save (export), load, import — streamed both ways.

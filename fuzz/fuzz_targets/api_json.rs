//! The engine's JSON answers: every typed response of the bindings decoded from arbitrary
//! bytes (what a broken or hostile engine, or a man in the middle of a `tcp://` URL, could
//! send). Decoding either succeeds or gives a clean error; it never panics.
#![no_main]

use bindings::api::{archive, build, containers, exec, images, lifecycle, pods};
use bindings::http::decode;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let _ = decode::<containers::CreateResponse>("create", data);
    let _ = decode::<Vec<containers::RemoveReport>>("container rm", data);
    let _ = decode::<images::RemoveReport>("image rm", data);
    let _ = decode::<Vec<lifecycle::PruneReport>>("prune", data);
    let _ = decode::<lifecycle::TopBody>("top", data);
    let _ = decode::<Vec<lifecycle::Change>>("diff", data);
    let _ = decode::<pods::PodActionReport>("pod action", data);
    let _ = decode::<Vec<pods::PodRmReport>>("pod rm", data);
    let _ = decode::<archive::PathStat>("path stat", data);
    let _ = exec::decode_exec_inspect(data);
    // The container path stat travels base64-encoded in a response header.
    if let Ok(header) = std::str::from_utf8(data) {
        let _ = archive::decode_stat_header(header);
    }
    // Build output messages are classified from any JSON document.
    if let Ok(v) = decode::<Value>("build output", data) {
        let _ = build::BuildMessage::from_value(v);
    }
});

//! kube play/down/generate and generate systemd.

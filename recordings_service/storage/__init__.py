"""Object storage: the S3 client, envelope encryption, upload spools, the embedded SeaweedFS and reconcile."""

"""Local stand-ins for the clouds: a SeaweedFS S3 server and a Google Vision REST stub."""

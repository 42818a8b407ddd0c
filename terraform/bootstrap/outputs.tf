output "state_bucket" {
  description = "The bucket `make init-infra` points the backend at."
  value       = aws_s3_bucket.state.bucket
}

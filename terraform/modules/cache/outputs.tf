output "redis_url" {
  description = "REDIS_URL for the api function: TLS, the limiter user, no password (that comes from the secret)."
  value       = "rediss://limiter@${aws_elasticache_serverless_cache.this.endpoint[0].address}:${aws_elasticache_serverless_cache.this.endpoint[0].port}"
}

output "auth_secret_arn" {
  description = "Secret holding the limiter user's password (REDIS_AUTH_SECRET_ID)."
  value       = aws_secretsmanager_secret.auth.arn
}

output "upstream_key_secret_arn" {
  description = "Secret holding the REST Countries key (REST_COUNTRIES_API_KEY_SECRET_ID)."
  value       = aws_secretsmanager_secret.upstream_key.arn
}

output "operator_key_secret_arn" {
  description = "Secret holding the operator key (OPERATOR_KEY_SECRET_ID)."
  value       = aws_secretsmanager_secret.operator_key.arn
}

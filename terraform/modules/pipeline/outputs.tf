output "connection_arn" {
  description = "The CodeStar connection: complete its hand-shake once in the console."
  value       = aws_codestarconnections_connection.git.arn
}

output "pipeline_name" {
  description = "The pipeline."
  value       = aws_codepipeline.this.name
}

output "deploy_role_arn" {
  description = "The role the deploy stage runs terraform with."
  value       = aws_iam_role.deploy.arn
}

output "service_key_arn" {
  description = "The environment's service key, which terraform/service finds by its alias (alias/countries-<env>)."
  value       = aws_kms_key.service.arn
}

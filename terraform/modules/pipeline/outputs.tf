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

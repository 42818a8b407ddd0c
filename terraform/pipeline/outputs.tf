output "connection_arn" {
  description = "Complete this connection's hand-shake once in the console."
  value       = module.pipeline.connection_arn
}

output "pipeline_name" {
  description = "The pipeline."
  value       = module.pipeline.pipeline_name
}

output "service_key_arn" {
  description = "The service key, which terraform/service reads by its alias (alias/countries-<env>)."
  value       = module.pipeline.service_key_arn
}

output "connection_arn" {
  description = "Complete this connection's hand-shake once in the console."
  value       = module.pipeline.connection_arn
}

output "pipeline_name" {
  description = "The pipeline."
  value       = module.pipeline.pipeline_name
}

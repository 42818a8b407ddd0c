output "api_url" {
  description = "Base URL of the service (the smoke test's target)."
  value       = module.http_api.url
}

output "upstream_key_secret_arn" {
  description = "Set the REST Countries key here, out of band (docs/operations.md)."
  value       = module.secrets.upstream_key_secret_arn
}

output "fetch_queue_url" {
  description = "The fetch queue."
  value       = module.queue.queue_url
}

output "dashboard" {
  description = "CloudWatch dashboard of the environment."
  value       = module.monitoring.dashboard_name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.alarm_topic_arn
}

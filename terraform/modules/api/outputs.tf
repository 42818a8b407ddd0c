output "api_id" {
  description = "Id of the HTTP API (the alarms' ApiId dimension)."
  value       = aws_apigatewayv2_api.this.id
}

output "url" {
  description = "Base URL of the service."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "stage_name" {
  description = "The stage ($default: no path prefix)."
  value       = aws_apigatewayv2_stage.this.name
}

output "countries_table_name" {
  description = "Name of the country documents table (COUNTRIES_TABLE)."
  value       = aws_dynamodb_table.countries.name
}

output "countries_table_arn" {
  description = "ARN of the country documents table."
  value       = aws_dynamodb_table.countries.arn
}

output "operations_table_name" {
  description = "Name of the fetch operations table (OPERATIONS_TABLE)."
  value       = aws_dynamodb_table.operations.name
}

output "operations_table_arn" {
  description = "ARN of the fetch operations table."
  value       = aws_dynamodb_table.operations.arn
}

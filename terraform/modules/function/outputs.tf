output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway invokes."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  description = "The function's role."
  value       = aws_iam_role.this.name
}

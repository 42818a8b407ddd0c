output "queue_url" {
  description = "URL of the fetch queue (FETCH_QUEUE_URL)."
  value       = aws_sqs_queue.fetch.url
}

output "queue_arn" {
  description = "ARN of the fetch queue."
  value       = aws_sqs_queue.fetch.arn
}

output "queue_name" {
  description = "Name of the fetch queue."
  value       = aws_sqs_queue.fetch.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

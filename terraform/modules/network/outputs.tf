output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnets for the api function and the cache."
  value       = aws_subnet.private[*].id
}

output "api_security_group_id" {
  description = "Security group of the api function (the only one allowed into Redis and the endpoints)."
  value       = aws_security_group.api.id
}

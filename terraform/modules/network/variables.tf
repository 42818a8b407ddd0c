variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range."
  type        = string
  default     = "10.40.0.0/20"
}

variable "zone_ids" {
  description = "Availability zone ids, one private subnet each; ElastiCache Serverless needs at least two."
  type        = list(string)
  validation {
    condition     = length(var.zone_ids) >= 2
    error_message = "At least two zones: ElastiCache Serverless spans two or more."
  }
}

variable "interface_endpoints" {
  description = "Services the api function reaches through interface endpoints (each needs an entry in local.endpoint_access)."
  type        = list(string)
  default     = ["sqs", "secretsmanager"]
}

variable "kms_key_arn" {
  description = "Customer-managed key for the flow log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the rejected-traffic flow log."
  type        = number
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the flow-log role (terraform/pipeline creates it)."
  type        = string
}

variable "log_deletion_protection" {
  description = "Refuse to delete the log group (prod): its logs outlive a mistaken destroy."
  type        = bool
  default     = false
}

variable "name" {
  description = "Function name (also its role's and log group's)."
  type        = string
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "zip_path" {
  description = "The zip holding `bootstrap` (target/lambda/<bin>/bootstrap.zip from `make build`)."
  type        = string
}

variable "architecture" {
  description = "arm64 (Graviton, ~20% cheaper per GB-second) or x86_64; must match the zip."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_mb" {
  description = "Memory (and so CPU share) of the function."
  type        = number
  default     = 256
}

variable "timeout_seconds" {
  description = "Function timeout."
  type        = number
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved (and capped) for the function."
  type        = number
}

variable "environment" {
  description = "Environment variables the binary reads (a contract test holds them to the code)."
  type        = map(string)
}

variable "policy_json" {
  description = "IAM policy document with the statements the function's code needs (least privilege)."
  type        = string
}

variable "vpc" {
  description = "Subnets and security groups when the function runs in a VPC; null outside."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "kms_key_arn" {
  description = "Customer-managed key for the environment variables and the log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the function's role (terraform/pipeline creates it; the deploy role can create no role without it)."
  type        = string
}

variable "log_deletion_protection" {
  description = "Refuse to delete the log group (prod): its logs outlive a mistaken destroy."
  type        = bool
  default     = false
}

variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "vpc_id" {
  description = "The VPC the cache lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (at least two AZs) for the cache's endpoints."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group of the only client allowed in: the api function."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for the cache data and the password secret."
  type        = string
}

variable "key_prefix" {
  description = "RATE_LIMIT_KEY_PREFIX: the limiter user may touch only keys under it."
  type        = string
}

variable "max_storage_gb" {
  description = "Ceiling on cached data: a cost guard (the limiter needs kilobytes)."
  type        = number
  default     = 1
}

variable "max_ecpu_per_second" {
  description = "Ceiling on ElastiCache Processing Units per second: a cost guard."
  type        = number
  default     = 5000
}

variable "recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once, so a destroyed dev can be deployed again; 7-30 otherwise)."
  type        = number
  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "0, or 7 to 30 days."
  }
}

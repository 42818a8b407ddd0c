variable "environment" {
  description = "dev or prod: the environment whose states the bucket holds."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "Region of the state bucket (the same as the environment's backend.hcl)."
  type        = string
  default     = "us-east-1"
}

variable "noncurrent_version_days" {
  description = "Days an overwritten state version is kept for roll-back."
  type        = number
  default     = 90
}

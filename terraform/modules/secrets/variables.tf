variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key that encrypts the secret."
  type        = string
}

variable "recovery_window_days" {
  description = "Days a deleted secret can be restored (0 deletes at once, so a destroyed dev can be deployed again; 7-30 otherwise)."
  type        = number
  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "0, or 7 to 30 days."
  }
}

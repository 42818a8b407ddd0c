variable "environment" {
  description = "dev or prod."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
}

variable "repository" {
  description = "The Git repository, owner/name."
  type        = string
}

variable "branch" {
  description = "Pushes to this branch deploy the environment."
  type        = string
}

variable "require_approval" {
  description = "A person approves each deploy (prod)."
  type        = bool
  default     = false
}

variable "pull_request_webhook" {
  description = "Register the pull-request check's webhook (dev): set it after the connection's hand-shake, then apply again."
  type        = bool
  default     = false
}

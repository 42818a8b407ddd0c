variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key that encrypts both tables."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the tables (on in prod)."
  type        = bool
}

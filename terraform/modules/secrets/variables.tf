variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key that encrypts the secret."
  type        = string
}

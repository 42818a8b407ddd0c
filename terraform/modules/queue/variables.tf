variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key that encrypts both queues."
  type        = string
}

variable "max_receive_count" {
  description = "Deliveries of a job before it moves to the DLQ; the worker's MAX_ATTEMPTS."
  type        = number
}

variable "worker_timeout_seconds" {
  description = "The worker function's timeout; the visibility timeout is six times this."
  type        = number
}

variable "retention_seconds" {
  description = "How long an unprocessed job stays on the fetch queue."
  type        = number
  default     = 86400
}

variable "dlq_retention_seconds" {
  description = "How long a dead job stays for investigation (the SQS maximum is 14 days)."
  type        = number
  default     = 1209600
}

variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for the alarm topic."
  type        = string
}

variable "alarm_email" {
  description = "Address subscribed to the alarms (confirm the e-mail AWS sends); empty for none."
  type        = string
  default     = ""
}

variable "api_id" {
  description = "The HTTP API."
  type        = string
}

variable "api_stage" {
  description = "The HTTP API's stage."
  type        = string
}

variable "api_function_name" {
  description = "The api function."
  type        = string
}

variable "worker_function_name" {
  description = "The worker function."
  type        = string
}

variable "queue_name" {
  description = "The fetch queue."
  type        = string
}

variable "dlq_name" {
  description = "The dead-letter queue."
  type        = string
}

variable "metric_namespace" {
  description = "Namespace of the service's own metrics (countries_api::metrics::NAMESPACE)."
  type        = string
  default     = "CountryDataService"
}

variable "api_5xx_threshold" {
  description = "5xx answers in 5 minutes above which the alarm fires."
  type        = number
  default     = 5
}

variable "api_p99_latency_ms" {
  description = "p99 latency (ms) above which, for 15 minutes, the alarm fires."
  type        = number
  default     = 1000
}

variable "queue_age_threshold_seconds" {
  description = "Age of the oldest queued job (s) above which the alarm fires."
  type        = number
  default     = 900
}

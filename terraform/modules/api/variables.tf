variable "name" {
  description = "Name of the HTTP API."
  type        = string
}

variable "function_name" {
  description = "The api function API Gateway invokes."
  type        = string
}

variable "function_invoke_arn" {
  description = "Invoke ARN of the api function."
  type        = string
}

variable "routes" {
  description = "Route keys served by the api function."
  type        = list(string)
  default = [
    "GET /fetch/{country}",
    "POST /fetch/{country}",
    "GET /country/{country}",
    "GET /status/{country}",
    "GET /countries",
    "POST /sync",
    "GET /sync",
    "GET /sync/{id}",
    # The v3.1 API: one greedy route, because v3.1 took every path with a trailing slash too and answers
    # its own 404 for the rest (crates/api/src/routes/v31.rs).
    "GET /v3.1/{proxy+}",
    "GET /health",
    "GET /openapi.json",
  ]
}

variable "cors_allow_origins" {
  description = "Origins browsers may call the API from."
  type        = list(string)
}

variable "throttle_rate" {
  description = "Stage-wide steady requests per second: the ceiling above the per-client limits."
  type        = number
}

variable "throttle_burst" {
  description = "Stage-wide burst."
  type        = number
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the function."
  type        = number
  default     = 10000
}

variable "kms_key_arn" {
  description = "Customer-managed key for the access log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the access logs (client IPs and user agents: personal data, so short)."
  type        = number
}

variable "log_deletion_protection" {
  description = "Refuse to delete the log group (prod): its logs outlive a mistaken destroy."
  type        = bool
  default     = false
}

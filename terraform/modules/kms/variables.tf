variable "name" {
  description = "Name prefix of the environment, e.g. countries-dev."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Days a scheduled key deletion waits (7-30): the time to notice and cancel it."
  type        = number
  default     = 30
}

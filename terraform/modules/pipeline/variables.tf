variable "environment" {
  description = "dev or prod: the environment this pipeline deploys."
  type        = string
}

variable "repository" {
  description = "The Git repository, owner/name."
  type        = string
}

variable "branch" {
  description = "Pushes to this branch run the pipeline."
  type        = string
}

variable "git_provider" {
  description = "Git host of the CodeStar connection: GitHub, GitLab or Bitbucket."
  type        = string
  default     = "GitHub"
}

variable "require_approval" {
  description = "A manual approval of the saved plan between Plan and Apply (prod)."
  type        = bool
}

variable "state_bucket" {
  description = "The environment's Terraform state bucket (from make bootstrap-state)."
  type        = string
}

variable "build_image" {
  description = "CodeBuild image: Ubuntu, so apt installs redis-server as on a developer's machine; arm64 zips are cross-compiled with cargo-lambda and zig."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "compute_type" {
  description = "CodeBuild compute: the Rust build wants at least 8 GB."
  type        = string
  default     = "BUILD_GENERAL1_LARGE"
}

variable "artifact_retention_days" {
  description = "Days pipeline artifacts are kept."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Retention of the build logs."
  type        = number
  default     = 30
}

variable "pull_request_webhook" {
  description = "Make the pull-request check, its role and its webhook (dev). CreateProject and CreateWebhook go through the connection, whose hand-shake a person completes in the console after the first apply: until then they cannot be made."
  type        = bool
  default     = false
}

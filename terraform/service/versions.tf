terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: `make init-infra ENV=...` supplies the bucket (made by `make bootstrap-state`),
  # the key and terraform/environments/<env>.backend.hcl (region, encryption, S3-native locking).
  backend "s3" {}
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "country-data-service"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

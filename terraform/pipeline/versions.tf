terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration, as for terraform/service: `make init-infra STACK=pipeline ENV=...`.
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

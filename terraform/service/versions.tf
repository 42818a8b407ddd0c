terraform {
  required_version = ">= 1.11"
  # Exactly the providers scripts/provider-schemas.py validates the HCL against (tests/infra_contract.rs
  # holds every versions.tf to them): a newer provider would deploy what no check has seen. Upgrading
  # means moving both, then `make lock-infra`.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 6.25.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "= 3.7.2"
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

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
  }
  # Local state, one workspace per environment (`make bootstrap-state ENV=...`): this stack only holds
  # the bucket every other state lives in. The bucket cannot be destroyed by accident (prevent_destroy).
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

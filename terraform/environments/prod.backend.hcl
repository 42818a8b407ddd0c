# S3 backend of the prod environment. The bucket (countries-tfstate-<account>-prod) comes from
# `make init-infra ENV=prod`, which asks STS for the account; the key names the stack.
region       = "us-east-1"
encrypt      = true # with kms_key_id, which make init-infra adds (the bootstrap's state key)
use_lockfile = true # S3-native state locking (Terraform >= 1.10): no DynamoDB lock table

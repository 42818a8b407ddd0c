# The two tables the DynamoDB store uses (crates/aws/src/dynamo.rs; keys in `countries_aws::dynamo::keys`).
# On-demand: the load is spiky and small, so nothing is paid while idle.

resource "aws_dynamodb_table" "countries" {
  name                        = "${var.name}-countries"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "code"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "code"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }
}

resource "aws_dynamodb_table" "operations" {
  name                        = "${var.name}-operations"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "country"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "country"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Operations expire after OPERATION_RETENTION; the store also hides expired items itself, because
  # DynamoDB deletes them only eventually (within days).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = true
  }
}

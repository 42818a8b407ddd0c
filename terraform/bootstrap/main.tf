# The S3 bucket holding the environment's Terraform states: versioned (a bad apply can be rolled back to
# the previous state), encrypted with its own key, never public, TLS only. Locking uses S3 itself
# (use_lockfile), so no DynamoDB lock table is needed.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "state" {
  description             = "countries-${var.environment}: Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  # checkov:skip=CKV_AWS_111:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  # checkov:skip=CKV_AWS_356:A key policy; its "*" resource is the key itself, and only the account and named services are principals
  statement {
    sid = "AccountAdministersTheKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
    # Every management and use action, as the pipeline's artifacts key has them, so the account's IAM
    # policies can delegate the key's whole administration (alias changes and rotation included) without
    # a PutKeyPolicy first. Listed rather than kms:* so the policy says what it grants.
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    # A key policy always names its own key as "*": it is attached to exactly one key.
    resources = ["*"]
  }
}

# The backend names the key by this alias (`make init-infra` passes it as kms_key_id), so Terraform
# writes the state with it rather than with S3's own keys; the deploy role may use only this key.
resource "aws_kms_alias" "state" {
  name          = "alias/countries-tfstate-${var.environment}"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  bucket = "countries-tfstate-${data.aws_caller_identity.current.account_id}-${var.environment}"
  # checkov:skip=CKV_AWS_144:Cross-region replication of a state bucket doubles its cost; versioning covers a bad apply and the stack can be re-imported
  # checkov:skip=CKV_AWS_18:Access logging needs a second bucket; CloudTrail data events are the audit trail for state reads
  # checkov:skip=CKV2_AWS_62:Nothing reacts to state changes; event notifications would have no consumer

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    id     = "old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.bucket.json
}

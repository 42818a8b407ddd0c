# The REST Countries v5 key. Terraform creates the secret but never its value, so the key is in no state
# file and no plan: set it out of band (docs/operations.md, "From zero").

resource "aws_secretsmanager_secret" "upstream_key" {
  # checkov:skip=CKV2_AWS_57:The key is issued by REST Countries; only its owner can rotate it, out of band
  name        = "${var.name}/rest-countries-api-key"
  description = "REST Countries v5 API key (JSON {\"api_key\": \"...\"} or the bare key), read by the worker at start"
  kms_key_id  = var.kms_key_arn

  recovery_window_in_days = var.recovery_window_days
}

# The operator key: what lets `POST /sync?force=true` sync sooner than the freshness window allows. Made
# like the upstream key, its value set out of band (docs/operations.md); until it is, nothing can force.
resource "aws_secretsmanager_secret" "operator_key" {
  # checkov:skip=CKV2_AWS_57:An operator's shared key, rotated by hand (set a new value; the api reads it at start)
  name        = "${var.name}/operator-key"
  description = "Operator key for forced catalogue syncs (JSON {\"operator_key\": \"...\"}, 16 characters or more), read by the api at start"
  kms_key_id  = var.kms_key_arn

  recovery_window_in_days = var.recovery_window_days
}

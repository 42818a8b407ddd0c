# Redis for the rate limiter: ElastiCache Serverless for Valkey (Redis-compatible). Serverless encrypts in
# transit (TLS is always on: the api uses rediss://) and at rest (here with the environment's key), spans
# the private subnets, and costs a floor of about $6 a month idle instead of a node's $12+.
# Access: the cache's security group admits only the api function's, and the limiter signs in as its own
# RBAC user, allowed only the limiter's commands on the limiter's keys.

resource "random_password" "limiter" {
  length  = 32
  special = false # ElastiCache passwords refuse some punctuation; 32 alphanumerics are ~190 bits
}

resource "aws_elasticache_user" "default" {
  # A user group must hold a user named "default"; this one is switched off.
  user_id       = "${var.name}-default"
  user_name     = "default"
  engine        = "valkey"
  access_string = "off -@all"
  authentication_mode {
    type = "no-password-required"
  }
}

resource "aws_elasticache_user" "limiter" {
  user_id   = "${var.name}-limiter"
  user_name = "limiter"
  engine    = "valkey"
  # Redis checks the caller's ACL on every redis.call inside a script too: the GCRA script calls TIME,
  # GET and SET; the client runs it with EVALSHA and, after a cache restart, SCRIPT LOAD (@scripting).
  # tests/infra_contract.rs runs the limiter as this user, with this string, on a real redis-server.
  access_string = "on ~${var.key_prefix}rl:* -@all +@scripting +time +get +set +ping"
  authentication_mode {
    type      = "password"
    passwords = [random_password.limiter.result]
  }
}

resource "aws_elasticache_user_group" "this" {
  user_group_id = "${var.name}-limiter"
  engine        = "valkey"
  user_ids      = [aws_elasticache_user.default.user_id, aws_elasticache_user.limiter.user_id]
}

resource "aws_security_group" "cache" {
  name        = "${var.name}-cache"
  description = "Redis: reachable from the api function only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_api" {
  security_group_id            = aws_security_group.cache.id
  description                  = "Redis (TLS) from the api function"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = var.client_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "api_to_cache" {
  security_group_id            = var.client_security_group_id
  description                  = "Redis (TLS) to the rate-limit cache"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = aws_security_group.cache.id
}

resource "aws_elasticache_serverless_cache" "this" {
  name                 = "${var.name}-limiter"
  engine               = "valkey"
  major_engine_version = "8"
  description          = "${var.name}: per-client rate limits"
  kms_key_id           = var.kms_key_arn
  subnet_ids           = var.subnet_ids
  security_group_ids   = [aws_security_group.cache.id]
  user_group_id        = aws_elasticache_user_group.this.user_group_id
  # Rate-limit state is worth nothing tomorrow: no snapshots to pay for.
  snapshot_retention_limit = 0

  cache_usage_limits {
    data_storage {
      maximum = var.max_storage_gb
      unit    = "GB"
    }
    ecpu_per_second {
      maximum = var.max_ecpu_per_second
    }
  }
}

# The limiter's password, read once by the api function at start (REDIS_AUTH_SECRET_ID, key auth_token).
# It is also in the Terraform state (ElastiCache needs it), which is why the state bucket is encrypted
# with its own key and readable only by the deploy role.
resource "aws_secretsmanager_secret" "auth" {
  # checkov:skip=CKV2_AWS_57:The password is set on the ElastiCache user by Terraform; rotate it with `terraform apply -replace=module.cache.random_password.limiter`, not a rotation Lambda
  name        = "${var.name}/redis-auth"
  description = "Password of the rate limiter's Redis user"
  kms_key_id  = var.kms_key_arn

  recovery_window_in_days = var.recovery_window_days
}

resource "aws_secretsmanager_secret_version" "auth" {
  secret_id     = aws_secretsmanager_secret.auth.id
  secret_string = jsonencode({ auth_token = random_password.limiter.result })
}

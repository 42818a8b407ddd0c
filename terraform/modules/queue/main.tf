# The fetch queue (the api sends, the worker's event source mapping receives) and its dead-letter queue.

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-fetch-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = var.dlq_retention_seconds
}

resource "aws_sqs_queue" "fetch" {
  name              = "${var.name}-fetch"
  kms_master_key_id = var.kms_key_arn
  # The data key is reused for 5 minutes: fewer KMS calls (and KMS charges) per message.
  kms_data_key_reuse_period_seconds = 300
  # AWS's rule for SQS-triggered functions: at least six times the function's timeout, so a batch still
  # being processed (and its retries by the poller) is not delivered twice.
  visibility_timeout_seconds = max(6 * var.worker_timeout_seconds, 30)
  message_retention_seconds  = var.retention_seconds

  # After max_receive_count deliveries the job moves to the DLQ. The worker reads the same number
  # (MAX_ATTEMPTS) and marks the operation failed on the last delivery.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.fetch.arn]
  })
}

"""Creates a role in the IAM-enforcing moto of scripts/with-emulators.sh and prints the credentials of
one session of it, as JSON. Called by tests/support/iam.rs; boto3 comes with moto's virtualenv.

usage: moto_role.py ROLE_NAME < POLICY_DOCUMENT_JSON
env:   TEST_AWS_IAM_ENDPOINT, TEST_AWS_IAM_ADMIN ("key:secret")
"""
import json
import os
import sys

import boto3


def main():
    name = sys.argv[1]
    policy = sys.stdin.read()
    key, secret = os.environ["TEST_AWS_IAM_ADMIN"].split(":", 1)
    session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1")
    endpoint = os.environ["TEST_AWS_IAM_ENDPOINT"]
    iam = session.client("iam", endpoint_url=endpoint)
    sts = session.client("sts", endpoint_url=endpoint)
    admin = iam.get_user(UserName="admin")["User"]["Arn"]
    # The test stands in for Lambda, so the role trusts the admin user that assumes it.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="function", PolicyDocument=policy)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=name)["Credentials"]
    print(json.dumps({k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}))


if __name__ == "__main__":
    main()

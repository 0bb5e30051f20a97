"""One command per stage: `make deploy STAGE=<name>` / `make destroy STAGE=<name>`.

    python -m infra.stage deploy  --stage NAME [--param Key=Value ...] [--owner SUB] [--no-package]
    python -m infra.stage destroy --stage NAME

See README.md, "Deploy to AWS". The modules: names (the stage name and what derives from it),
templates (reading, code location, moto fitting), stacks (CloudFormation change sets), day_one
(settings secret, migration, bootstrap), deploy (the order of it all), __main__ (the command).

AWS actions of this tooling (the operator's credentials, not the functions' role):
  cloudformation: CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet,
                  DescribeStacks, DescribeStackEvents, DescribeStackResources, ListExports, DeleteStack
                  (plus what CloudFormation does for the templates' resources with those credentials)
  s3:             PutObject on <artifacts bucket>/functions/* and /templates/*
  secretsmanager: GetSecretValue, CreateSecret, PutSecretValue on secret:mastra-admin/<stage>/settings-*
  kms:            GenerateDataKey, Decrypt on the stage's key (the settings secret is encrypted with it);
                  CreateGrant, Encrypt on it through CloudFormation (the functions' KmsKeyArn)
  sts:            GetCallerIdentity; ec2: DescribeVpcs, DescribeSubnets (default network)
  lambda:         GetFunctionConfiguration (the stage's settings), Invoke (--migrate lambda)
  and the app's own actions for the migration and bootstrap run in-process (DynamoDB on the table).
AWS actions the functions' role needs for what this change adds (for infra/chalice-merge.yaml's policy):
  secretsmanager:GetSecretValue on arn:aws:secretsmanager:<region>:<account>:secret:mastra-admin/<stage>/settings-*
  kms:Decrypt on the stage's key (the settings secret, and the function variables: KmsKeyArn is that key)
  s3:PutObject and s3:GetObject on <artifacts bucket>/runtime/* (the ECS boot script and its presigned URL)
"""

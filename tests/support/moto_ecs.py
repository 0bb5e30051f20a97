"""An in-process moto server with the state table and an ECS world, for tests that inject their own
Settings and clients. PynamoDB's models read their host and table from the process's settings at
first use: `pointed_at` moves them to this server under a table name of its own (PynamoDB rebuilds a
model's connection when the table name changes) and puts them back afterwards."""
from __future__ import annotations

import contextlib

import boto3

from chalicelib.db.models import BaseItem, configure_tables
from chalicelib.runners.ecs_deploy import EcsDeployRunner
from chalicelib.settings import Settings

REGION = "us-east-1"


def client(url: str, name: str):
    return boto3.client(name, endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@contextlib.contextmanager
def pointed_at(url: str, stage: str):
    """The state table (from infra/resources.yaml) on `url`, and every model pointed at it."""
    from local_stack.provision import Provisioner, load_template

    template = load_template()
    provisioner = Provisioner(boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing"),
                              url, REGION, stage)
    provisioner._aws_dynamodb_table("StateTable", provisioner.resolve(template["Resources"]["StateTable"]
                                                                        ["Properties"]), template)
    configure_tables()  # from the settings first, so that this override is not replaced at first use
    meta = BaseItem.Meta
    saved = (meta.host, meta.table_name, meta.region)
    meta.host, meta.table_name, meta.region = url, f"mastra-admin-{stage}", REGION
    try:
        yield
    finally:
        meta.host, meta.table_name, meta.region = saved


def ecs_world(url: str, cluster: str = "mastra-admin-test") -> tuple[Settings, EcsDeployRunner, dict]:
    """A VPC, subnets, a security group, a cluster and a runner with explicit settings and clients."""
    clients = {n: client(url, n) for n in ("ec2", "elbv2", "ecs", "s3", "logs", "cloudwatch", "secretsmanager")}
    ec2 = clients["ec2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's task ENIs need it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="servers", Description="servers", VpcId=vpc)["GroupId"]
    clients["ecs"].create_cluster(clusterName=cluster)
    clients["s3"].create_bucket(Bucket="artifacts")
    settings = Settings(stage="test", region=REGION, bucket_name="artifacts", deploy_runner="ecs",
                        ecs_cluster=cluster, ecs_subnets=(subnet,), ecs_security_groups=(sg,),
                        ecs_log_group="/mastra-admin/test/servers", vpc_id=vpc, public_domain="apps.example.com")
    runner = EcsDeployRunner(settings, ecs=clients["ecs"], logs=clients["logs"],
                             s3=clients["s3"], cloudwatch=clients["cloudwatch"],
                             secrets_manager=clients["secretsmanager"])
    return settings, runner, clients

"""Create, update and delete one CloudFormation stack, as `aws cloudformation deploy` does.

A change set (CREATE when the stack does not exist, UPDATE otherwise) is made, waited for and
executed, then the stack is waited for; a change set without changes is deleted and the stack left
as it is. A parameter the caller does not give keeps its previous value on an update. A template
over the TemplateBody limit goes through S3 (TemplateURL). moto's change sets make no outputs or
exports (moto 5.2 applies the resources only), so against moto the stack is created or updated
directly (`change_sets=False`), with the same waiters.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
WAIT = {"Delay": 2, "MaxAttempts": 900}  # CloudFront-free stacks finish well inside 30 minutes
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class StackError(RuntimeError):
    """A stack could not be created, updated or deleted; the message carries CloudFormation's reasons."""


class _Refused(Exception):
    """A change set that failed, with CloudFormation's reason (which may be "no changes")."""


@dataclass(frozen=True)
class Deployed:
    name: str
    outputs: dict[str, str]
    changed: bool


def error_code(exc: BaseException) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def error_message(exc: BaseException) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Message", exc))


class Stacks:
    def __init__(self, cloudformation: Any, s3: Any = None, change_sets: bool = True):
        self.cfn, self.s3, self.change_sets = cloudformation, s3, change_sets

    def describe(self, name: str) -> dict | None:
        try:
            stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        except Exception as e:
            if "does not exist" in error_message(e):
                return None
            raise
        return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack

    def outputs(self, name: str) -> dict[str, str]:
        stack = self.describe(name)
        return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs") or []}

    def exports(self) -> dict[str, str]:
        found, token = {}, None
        while True:
            page = self.cfn.list_exports(**({"NextToken": token} if token else {}))
            found.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
            token = page.get("NextToken")
            if not token:
                return found

    def physical_ids(self, name: str) -> dict[str, str]:
        resources = self.cfn.describe_stack_resources(StackName=name)["StackResources"]
        return {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources}

    # --- deploy ---------------------------------------------------------------------------

    def deploy(self, name: str, template: dict[str, Any], parameters: dict[str, str], *,
               template_bucket: str | None = None, tags: dict[str, str] | None = None,
               progress: Callable[[str], None] = print) -> Deployed:
        existing = self.describe(name)
        if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":  # a failed first create: start over
            progress(f"  {name}: removing the failed first attempt (ROLLBACK_COMPLETE)")
            self.delete(name, progress=lambda _m: None)
            existing = None
        if existing and existing["StackStatus"] == "REVIEW_IN_PROGRESS":  # a change set never executed
            existing = None
        declared = set((template.get("Parameters") or {}))
        previous = {p["ParameterKey"] for p in (existing or {}).get("Parameters") or []}  # kept unless given
        params = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(parameters.items()) if k in declared]
        params += [{"ParameterKey": k, "UsePreviousValue": True} for k in sorted(declared & previous - set(parameters))]
        args: dict[str, Any] = {
            "StackName": name, "Parameters": params, "Capabilities": CAPABILITIES,
            "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
            **self._template_argument(name, template, template_bucket),
        }
        try:
            self._submit(args, existing is not None)
        except Exception as e:
            reason = str(e) if isinstance(e, _Refused) else error_message(e)
            if any(marker in reason for marker in NO_CHANGES):
                progress(f"  {name}: no changes")
                return Deployed(name, self.outputs(name), changed=False)
            raise StackError(f"{name}: {reason}") from e
        progress(f"  {name}: {'updating' if existing else 'creating'}")
        waiter = "stack_update_complete" if existing else "stack_create_complete"
        try:
            self.cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=WAIT)
        except Exception as e:
            raise StackError(f"{name}: {self._failure_reasons(name) or error_message(e)}") from e
        return Deployed(name, self.outputs(name), changed=True)

    def delete(self, name: str, progress: Callable[[str], None] = print) -> bool:
        """Deletes the stack (resources marked Retain stay); False when there was none."""
        if self.describe(name) is None:
            return False
        progress(f"  {name}: deleting")
        self.cfn.delete_stack(StackName=name)
        try:
            self.cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAIT)
        except Exception as e:
            raise StackError(f"{name}: {self._failure_reasons(name) or error_message(e)}") from e
        return True

    def _submit(self, args: dict[str, Any], update: bool) -> None:
        """Starts the create or update (a change set, made, checked and executed; or directly)."""
        if not self.change_sets:
            (self.cfn.update_stack if update else self.cfn.create_stack)(**args)
            return
        change_set = f"deploy-{int(time.time() * 1000)}"
        self.cfn.create_change_set(**args, ChangeSetName=change_set, ChangeSetType="UPDATE" if update else "CREATE")
        try:
            self.cfn.get_waiter("change_set_create_complete").wait(
                StackName=args["StackName"], ChangeSetName=change_set, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
        except Exception as e:
            reason = self._change_set_reason(args["StackName"], change_set) or error_message(e)
            if any(marker in reason for marker in NO_CHANGES):
                self._forget_change_set(args["StackName"], change_set)
            raise _Refused(reason) from e
        self.cfn.execute_change_set(StackName=args["StackName"], ChangeSetName=change_set)

    # --- helpers --------------------------------------------------------------------------

    def _template_argument(self, name: str, template: dict[str, Any], bucket: str | None) -> dict[str, str]:
        body = json.dumps(template, separators=(",", ":"))
        if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        if not bucket or self.s3 is None:
            raise StackError(f"{name}: the template has {len(body)} bytes (over {TEMPLATE_BODY_LIMIT}) "
                             "and no bucket was given to upload it to")
        key = f"templates/{name}.json"
        self.s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
        # The path-style S3 URL: what CloudFormation reads, and what moto resolves to its own S3.
        return {"TemplateURL": f"https://s3.{self.s3.meta.region_name}.amazonaws.com/{bucket}/{key}"}

    def _change_set_reason(self, name: str, change_set: str) -> str:
        try:
            return self.cfn.describe_change_set(StackName=name, ChangeSetName=change_set).get("StatusReason") or ""
        except Exception:
            return ""

    def _forget_change_set(self, name: str, change_set: str) -> None:
        try:
            self.cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        except Exception:
            pass  # an empty change set left behind is harmless

    def _failure_reasons(self, name: str) -> str:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except Exception:
            return ""
        failed = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                  if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")]
        return "; ".join(reversed(failed[:5]))

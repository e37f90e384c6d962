"""Tests of builders, Pulumi components under mocks, render k8s."""

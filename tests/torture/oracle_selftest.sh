#!/usr/bin/env bash
echo TODO; exit 1

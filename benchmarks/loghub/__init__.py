"""Loghub-2k log parsing benchmark (grouping accuracy, speed) and the 1M-line HDFS stream."""

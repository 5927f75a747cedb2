"""Grouping news reports into incidents.

>>> from ingest.grouping import Grouper, GroupingItem
>>> a = GroupingItem("r1", "Robotaxi drags pedestrian", "A driverless car dragged a woman.")
>>> b = GroupingItem("r2", "Robotaxi firm suspended after it dragged pedestrian", "Driverless.")
>>> Grouper().cluster([a, b])
[['r1', 'r2']]

:class:`Grouper` scores a report against candidates (URL match wins; else TF-IDF text similarity
plus shared entity names, within a date window) and groups a stream online;
:func:`evaluate_grouping` measures it on AIID's real linked reports.
"""

from ingest.grouping._eval import GroupingScore, evaluate_grouping, pairwise_score
from ingest.grouping._grouper import Grouper, GroupingItem, GroupMatch, extract_entities

__all__ = [
    "GroupMatch",
    "Grouper",
    "GroupingItem",
    "GroupingScore",
    "evaluate_grouping",
    "extract_entities",
    "pairwise_score",
]

"""The data tables of the district demo (docs/rules.md#demo-data): 揭东区's towns and villages,
the groups and users, the two schemes, the periods and the cases the seeder stages.

``district`` writes them through the rooms' operations; ``province`` reuses the schemes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

DISTRICT_CODE = "445203"
DISTRICT_NAME = "揭东区"

#: (name, kind, 3-digit town segment), in the district's usual order.
TOWNS: list[tuple[str, str, str]] = [
    ("曲溪街道", "街道", "001"),
    ("磐东街道", "街道", "002"),
    ("云路镇", "镇", "100"),
    ("玉滘镇", "镇", "101"),
    ("锡场镇", "镇", "102"),
    ("新亨镇", "镇", "103"),
    ("玉湖镇", "镇", "104"),
    ("埔田镇", "镇", "105"),
    ("霖磐镇", "镇", "106"),
    ("月城镇", "镇", "107"),
    ("白塔镇", "镇", "108"),
    ("龙尾镇", "镇", "109"),
    ("桂岭镇", "镇", "110"),
]

#: Villages per town: 村 get codes 2xx, 社区 0xx (the statistical pattern).
VILLAGES: dict[str, list[str]] = {
    "曲溪街道": ["路篦村", "宝联村", "乔林村", "西寨村", "城东社区"],
    "磐东街道": ["乔南村", "乔西村", "新西河村", "林厝寮村", "磐东社区"],
    "云路镇": ["新桃村", "北洋村", "中夏村", "老桃村", "月浦村", "云路社区"],
    "玉滘镇": ["大寮村", "东山村", "径口村", "西湖社区"],
    "锡场镇": ["锡西村", "华清村", "锡中村", "潭王村", "锡场社区"],
    "新亨镇": ["硕和村", "仙美村", "英花村", "北良村", "新亨社区"],
    "玉湖镇": ["汾水村", "坪上村", "浮山村", "东岗村", "玉湖社区"],
    "埔田镇": ["车田村", "牌边村", "长岭村", "三新村", "埔田社区"],
    "霖磐镇": ["东洲村", "南阳村", "江夏村", "三洲村", "霖磐社区"],
    "月城镇": ["月城村", "石头村", "玉联村", "钱坑村", "月城社区"],
    "白塔镇": ["瑞联村", "塔东村", "白塔村", "新寮村", "白塔社区"],
    "龙尾镇": ["龙珠村", "马头村", "龙尾村", "东埔村", "龙尾社区"],
    "桂岭镇": ["桂岭村", "六联村", "新楼村", "洋美村", "桂岭社区"],
}

#: The 21 typical villages (典型村): name → batch. 8 in batch 1, 13 in batch 2.
TYPICAL: dict[str, int] = {
    "新桃村": 1, "瑞联村": 1, "汾水村": 1, "龙珠村": 1,
    "硕和村": 1, "路篦村": 1, "东洲村": 1, "锡西村": 1,
    "宝联村": 2, "乔南村": 2, "北洋村": 2, "大寮村": 2, "华清村": 2, "仙美村": 2,
    "坪上村": 2, "车田村": 2, "南阳村": 2, "月城村": 2, "塔东村": 2, "马头村": 2,
    "桂岭村": 2,
}  # fmt: skip

#: The four analysis groups: (name, leader, the towns whose typical villages they review).
GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("第一研判小组", "林泽鹏", ("曲溪街道", "磐东街道", "云路镇")),
    ("第二研判小组", "黄晓敏", ("玉滘镇", "锡场镇", "新亨镇")),
    ("第三研判小组", "陈树坤", ("玉湖镇", "埔田镇", "霖磐镇")),
    ("第四研判小组", "郑雅琳", ("月城镇", "白塔镇", "龙尾镇", "桂岭镇")),
]

#: Demo users: (role, username, display name, analysis group index or None).
USERS: list[tuple[str, str, str, int | None]] = [
    ("admin", "admin", "区委组织部 系统管理员", None),
    ("assessor", "assessor", "考核组 许文杰", None),
    ("supervisor", "supervisor", "督导组 蔡丽华", None),
    ("auditor", "auditor", "审计 吴思远", None),
    ("reviewer", "reviewer", "第一研判小组 林泽鹏", 0),
    ("reviewer", "reviewer2", "第二研判小组 黄晓敏", 1),
    ("reviewer", "reviewer3", "第三研判小组 陈树坤", 2),
    ("reviewer", "reviewer4", "第四研判小组 郑雅琳", 3),
]


@dataclass(frozen=True)
class IndicatorSpec:
    """One sample indicator and how its synthetic values are drawn."""

    code: str
    name: str
    points: str
    method: str
    measure_unit: str
    data_source: str
    rule_text: str
    direction: str = "higher"
    target: str | None = None
    floor: str | None = None
    #: Relative method: the range sample values are drawn from.
    low: str = "0"
    high: str = "0"
    #: Decimal places of sample values.
    places: int = 1
    #: The values an assessor may enter (docs/values-and-ranges.md): rates of coverage
    #: 0–100 %, completion rates up to 200 %, growth rates −50 to 100 %, counts whole
    #: and not negative, amounts not negative. Sample values are kept inside.
    value_min: str | None = None
    value_max: str | None = None
    integer_only: bool = False

    def bounded(self, value: Decimal) -> Decimal:
        """Return a sample value moved inside the allowed range (a 112 % coverage is 100)."""
        if self.value_max is not None and value > Decimal(self.value_max):
            return Decimal(self.value_max)
        if self.value_min is not None and value < Decimal(self.value_min):
            return Decimal(self.value_min)
        return value


@dataclass(frozen=True)
class SchemeSpec:
    code: str
    name: str
    level: str
    dimensions: list[tuple[str, str, list[IndicatorSpec]]]


TOWN_SCHEME = SchemeSpec(
    "JD-TOWN-2025",
    "揭东区镇街担当作为考核指标（2025 版）",
    "town",
    [
        (
            "ECO",
            "镇域经济发展",
            [
                IndicatorSpec(
                    "A01", "地区生产总值增速", "7", "target", "%", "区统计局",
                    "以全年目标增速 6% 为基准，按完成率计分，完成目标得满分。",
                    target="6",
                    value_min="-50", value_max="100",
                ),
                IndicatorSpec(
                    "A02", "规上工业增加值增速", "6", "relative", "%", "区统计局",
                    "各镇街横向比较：最高者得满分，最低者得 60%，其余按插值计分。",
                    floor="0.6", low="-2", high="12",
                    value_min="-50", value_max="100",
                ),
                IndicatorSpec(
                    "A03", "固定资产投资计划完成率", "6", "target", "%", "区发展和改革局",
                    "完成年度投资计划 100% 得满分，按完成比例计分。",
                    target="100",
                    value_min="0", value_max="200",
                ),
                IndicatorSpec(
                    "A04", "招商引资新落地项目", "5", "relative", "个", "区商务局",
                    "按新签约落地项目个数横向比较，最低者得 50%。",
                    floor="0.5", low="1", high="9", places=0,
                    value_min="0", integer_only=True,
                ),
                IndicatorSpec(
                    "A05", "一般公共预算收入完成率", "5", "target", "%", "区财政局",
                    "完成年度预算 100% 得满分，按完成比例计分。",
                    target="100",
                    value_min="0", value_max="200",
                ),
                IndicatorSpec(
                    "A06", "营商环境评价", "5", "grade", "等次", "区营商环境评价办",
                    "按优、良、中、差评定，分别得满分、85%、70%、50%。",
                ),
                IndicatorSpec(
                    "A07", "单位地区生产总值能耗", "6", "target", "吨标准煤/万元",
                    "区工业和信息化局",
                    "越低越好：不高于 0.35 得满分，高于时按 0.35 ÷ 实际值计分。",
                    direction="lower", target="0.35", places=3,
                    value_min="0",
                ),
            ],
        ),
        (
            "URB",
            "城乡融合",
            [
                IndicatorSpec(
                    "B01", "圩镇建设项目推进", "6", "direct", "分", "区住房和城乡建设局",
                    "由考核组按项目进度、质量直接评分，最高 6 分。",
                ),
                IndicatorSpec(
                    "B02", "农村居民人均可支配收入增速", "5", "relative", "%", "区统计局",
                    "各镇街横向比较，最低者得 50%。",
                    floor="0.5", low="4", high="10",
                    value_min="-50", value_max="100",
                ),
                IndicatorSpec(
                    "B03", "圩镇人居环境整治", "5", "grade", "等次", "区农业农村局",
                    "季度暗访评定优、良、中、差等次。",
                ),
                IndicatorSpec(
                    "B04", "农村公路提升改造里程", "5", "target", "公里", "区交通运输局",
                    "完成 12 公里得满分，按完成比例计分。",
                    target="12",
                    value_min="0",
                ),
                IndicatorSpec(
                    "B05", "基本公共服务设施覆盖率", "5", "target", "%", "区民政局",
                    "达到 95% 得满分，按完成比例计分。",
                    target="95",
                    value_min="0", value_max="100",
                ),
                IndicatorSpec(
                    "B06", "农村生活污水治理率", "4", "target", "%", "市生态环境局揭东分局",
                    "达到 90% 得满分，按完成比例计分。",
                    target="90",
                    value_min="0", value_max="100",
                ),
            ],
        ),
        (
            "RUR",
            "乡村振兴",
            [
                IndicatorSpec(
                    "C01", "粮食播种面积任务完成率", "5", "target", "%", "区农业农村局",
                    "完成下达任务 100% 得满分，按完成比例计分。",
                    target="100",
                    value_min="0", value_max="200",
                ),
                IndicatorSpec(
                    "C02", "村级集体经济收入", "5", "relative", "万元", "区农业农村局",
                    "按镇街村均集体经济收入横向比较，最低者得 40%。",
                    floor="0.4", low="10", high="60",
                    value_min="0",
                ),
                IndicatorSpec(
                    "C03", "典型村培育创建成效", "6", "direct", "分", "区委农办",
                    "由研判小组按典型村培育创建进展直接评分，最高 6 分。",
                ),
                IndicatorSpec(
                    "C04", "基层党建引领", "5", "grade", "等次", "区委组织部",
                    "按党建述职评议结果评定优、良、中、差等次。",
                ),
                IndicatorSpec(
                    "C05", "重复信访事项", "4", "target", "件", "区信访局",
                    "越低越好：不超过 2 件得满分，超过时按 2 ÷ 实际件数计分，0 件得满分。",
                    direction="lower", target="2", places=0,
                    value_min="0", integer_only=True,
                ),
                IndicatorSpec(
                    "C06", "违法占用耕地面积", "5", "target", "亩", "市自然资源局揭东分局",
                    "越低越好：不超过 5 亩得满分，超过时按 5 ÷ 实际面积计分。",
                    direction="lower", target="5",
                    value_min="0",
                ),
            ],
        ),
    ],
)  # fmt: skip

VILLAGE_SCHEME = SchemeSpec(
    "JD-VILLAGE-2025",
    "揭东区典型村培育创建考核指标（2025 版）",
    "village",
    [
        (
            "ORG",
            "组织振兴与治理",
            [
                IndicatorSpec(
                    "V01", "基层党组织建设", "20", "direct", "分", "镇街党（工）委",
                    "按“领头雁”履职、党员队伍建设情况直接评分，最高 20 分。",
                ),
                IndicatorSpec(
                    "V02", "人居环境整治", "20", "grade", "等次", "区农业农村局",
                    "季度暗访评定优、良、中、差等次。",
                ),
                IndicatorSpec(
                    "V03", "矛盾纠纷发生数", "15", "target", "件", "镇街综治中心",
                    "越低越好：不超过 2 件得满分，超过时按 2 ÷ 实际件数计分，0 件得满分。",
                    direction="lower", target="2", places=0,
                    value_min="0", integer_only=True,
                ),
            ],
        ),
        (
            "IND",
            "产业与集体经济",
            [
                IndicatorSpec(
                    "V04", "村集体经济收入", "25", "target", "万元", "区农业农村局",
                    "达到 30 万元得满分，按完成比例计分。",
                    target="30",
                    value_min="0",
                ),
                IndicatorSpec(
                    "V05", "特色产业产值增速", "20", "relative", "%", "镇街农业办",
                    "典型村横向比较，最低者得 50%。",
                    floor="0.5", low="2", high="15",
                    value_min="-50", value_max="100",
                ),
            ],
        ),
    ],
)  # fmt: skip


@dataclass(frozen=True)
class PeriodSpec:
    code: str
    name: str
    start: date
    end: date
    #: Where the seeder leaves it: approved, submitted or open.
    status: str


PERIODS = [
    PeriodSpec("2025Q4", "2025年第四季度", date(2025, 10, 1), date(2025, 12, 31), "approved"),
    PeriodSpec("2026Q1", "2026年第一季度", date(2026, 1, 1), date(2026, 3, 31), "approved"),
    PeriodSpec("2026Q2", "2026年第二季度", date(2026, 4, 1), date(2026, 6, 30), "submitted"),
    PeriodSpec("2026Q3", "2026年第三季度", date(2026, 7, 1), date(2026, 9, 30), "open"),
]
#: The period whose typical-village flags show every reason of docs/rules.md#review-flags.
FLAGGED_PERIOD = "2026Q2"
#: Typical villages given a part in FLAGGED_PERIOD's story (the others vary at random).
VETOED_VILLAGE = "南阳村"
LOW_VILLAGE = "车田村"
DROPPING_VILLAGE = "北洋村"
INCOMPLETE_VILLAGE = "马头村"
#: Town adjustments per period: (town, kind, points, reason).
ADJUSTMENTS: dict[str, list[tuple[str, str, str, str]]] = {
    "2025Q4": [
        ("新亨镇", "bonus", "2", "获评省级乡村振兴示范镇"),
        ("云路镇", "bonus", "1.5", "竹笋产业园经验在全市推广"),
        ("锡场镇", "penalty", "1", "中央环保督察交办问题整改滞后"),
    ],
    "2026Q1": [
        ("新亨镇", "bonus", "3", "承办全市“百千万工程”现场推进会"),
        ("新亨镇", "bonus", "2.5", "典型村培育经验获省委农办通报表扬"),
        ("玉湖镇", "bonus", "1", "汾水村入选省级美丽乡村精品村"),
        ("霖磐镇", "penalty", "2", "发生一般安全生产事故被约谈"),
    ],
    "2026Q2": [
        ("白塔镇", "bonus", "2", "瑞联村获评全国乡村治理示范村"),
        ("曲溪街道", "bonus", "1", "营商环境改革事项获全市推广"),
        ("埔田镇", "penalty", "1.5", "耕地保护专项督察发现问题"),
        ("桂岭镇", "penalty", "1", "重点项目投资进度连续滞后"),
    ],
    "2026Q3": [("龙尾镇", "bonus", "1", "龙珠村乡村旅游项目入选省级精品线路")],
}
VILLAGE_ADJUSTMENTS: dict[str, list[tuple[str, str, str, str]]] = {
    "2026Q1": [("汾水村", "bonus", "2", "村集体经济项目获省级资金支持")],
    "2026Q2": [
        ("瑞联村", "bonus", "3", "获评全国乡村治理示范村"),
        ("车田村", "penalty", "2", "人居环境暗访发现问题整改不力"),
    ],
}
VETO_REASON = "发生群体性信访事件并造成恶劣影响，实行一票否决"
#: Visits in FLAGGED_PERIOD's quarter: these villages had one, these had none.
REVIEWED_IN_FLAGGED_PERIOD = frozenset({"新桃村", "瑞联村", "汾水村", "龙珠村", DROPPING_VILLAGE})
NOT_REVIEWED_IN_FLAGGED_PERIOD = frozenset({"桂岭村", LOW_VILLAGE})

SURNAMES = "林黄陈郑吴许李蔡杨谢王刘张洪詹孙曾卢方苏魏余肖"
GIVEN = "泽晓树雅文思志丽俊伟海燕建华秀明嘉佳少锦宏浩婉晓铭楚鸿娟瑞敏"

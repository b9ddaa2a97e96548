//! `redress demo`: a demonstration world, loaded idempotently into the configured database.
//!
//! The merchants and terminals are the ones in the sample files (`demo/`, copied from the
//! project's shared samples): the sample journal and settlement records, a generated month of
//! traffic on top, a user per role, and the sample claims filed as cases.

use std::fmt;

use anyhow::Context;

use crate::accounts;
use crate::cases::act::{self, Step, Who};
use crate::cases::{self, Contact, MatchContext};
use crate::db::cases as cases_db;
use crate::db::merchants::{Location, NewMerchant, upsert_merchant, upsert_terminal};
use crate::db::users;
use crate::db::{Db, DbError};
use crate::domain::case_input::ActionInput;
use crate::domain::case_state::{ActionKind, Actor};
use crate::domain::claim::ClaimInput;
use crate::domain::money::Currency;
use crate::i18n::Lang;
use crate::import::{ImportRequest, Kind, generate, import};

/// A terminal id and where the terminal stands, in Chinese and in English.
type DemoTerminal = (&'static str, &'static str, &'static str);

/// (merchant id, Chinese name, English name, terminals)
const MERCHANTS: &[(&str, &str, &str, &[DemoTerminal])] = &[
    (
        "806276126745394",
        "沪上味道餐厅",
        "Hushang Flavours Restaurant",
        &[
            ("27161971", "收银台 1", "Till 1"),
            ("62287436", "收银台 2", "Till 2"),
            ("75942573", "外卖窗口", "Delivery window"),
            ("80081074", "二楼", "First floor"),
        ],
    ),
    (
        "814035381332293",
        "港湾便利店",
        "Harbour Convenience Store",
        &[
            ("21107999", "前台", "Front desk"),
            ("72038831", "自助收银", "Self-checkout"),
            ("91462014", "夜间窗口", "Night window"),
            ("98058297", "仓库店", "Warehouse shop"),
        ],
    ),
    (
        "816665619144871",
        "锦江加油站",
        "Jinjiang Fuel Station",
        &[
            ("18289436", "1 号加油岛", "Pump island 1"),
            ("63203721", "2 号加油岛", "Pump island 2"),
            ("71245213", "便利店", "Convenience shop"),
            ("94025906", "洗车房", "Car wash"),
        ],
    ),
    (
        "820050243263352",
        "青禾超市",
        "Green Grain Supermarket",
        &[
            ("18624377", "收银 1", "Till 1"),
            ("44862206", "收银 2", "Till 2"),
            ("93211660", "收银 3", "Till 3"),
            ("95565394", "生鲜区", "Fresh produce"),
        ],
    ),
    (
        "821838866205910",
        "北辰数码城",
        "Beichen Digital Mall",
        &[
            ("08371927", "A 区", "Zone A"),
            ("24282848", "B 区", "Zone B"),
            ("74222276", "售后", "After-sales"),
            ("99389132", "配件柜台", "Accessories counter"),
        ],
    ),
    (
        "828844912590296",
        "云杉书店",
        "Spruce Books",
        &[
            ("33521414", "一楼", "Ground floor"),
            ("59459526", "二楼", "First floor"),
            ("84250330", "咖啡角", "Coffee corner"),
            ("88360045", "儿童区", "Children's corner"),
        ],
    ),
    (
        "835883278854443",
        "东方药房",
        "Orient Pharmacy",
        &[
            ("27004911", "处方柜台", "Prescriptions"),
            ("57704830", "非处方", "Over the counter"),
            ("63740309", "保健品", "Health products"),
            ("79006749", "24 小时窗口", "24-hour window"),
        ],
    ),
    (
        "850492062412659",
        "江南家居",
        "Jiangnan Home",
        &[
            ("11095871", "展厅 1", "Showroom 1"),
            ("21245610", "展厅 2", "Showroom 2"),
            ("72784280", "收银中心", "Checkout centre"),
            ("99722387", "配送台", "Delivery desk"),
        ],
    ),
    (
        "851424736185314",
        "明月茶楼",
        "Bright Moon Teahouse",
        &[
            ("20069790", "大堂", "Lobby"),
            ("53473898", "包间", "Private room"),
            ("55024556", "外带", "Takeaway"),
            ("60381321", "露台", "Terrace"),
        ],
    ),
    (
        "868625034637336",
        "星河电影城",
        "Galaxy Cinemas",
        &[
            ("03503484", "售票 1", "Tickets 1"),
            ("06249957", "售票 2", "Tickets 2"),
            ("29277734", "小卖部", "Snack bar"),
            ("94074120", "自助机", "Ticket machine"),
        ],
    ),
    (
        "885708393473571",
        "悦动健身",
        "Pulse Fitness",
        &[
            ("43217853", "前台", "Front desk"),
            ("63616607", "私教部", "Personal training"),
            ("74319546", "商店", "Shop"),
            ("75366316", "泳池", "Pool"),
        ],
    ),
    (
        "895912384020658",
        "海风海鲜酒家",
        "Sea Breeze Seafood",
        &[
            ("38723520", "大厅", "Hall"),
            ("59510176", "包房", "Private room"),
            ("75057015", "外卖", "Delivery"),
            ("77347516", "海鲜池", "Seafood tank"),
        ],
    ),
];

pub struct DemoSummary {
    pub merchants: usize,
    pub terminals: usize,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Demo data loaded: {} merchants, {} terminals.", self.merchants, self.terminals)
    }
}

/// Demonstration sign-ins, printed by `redress demo`. Only for a local trial.
pub const USERS: &[(&str, &str, &[&str])] = &[
    ("admin", "admin@redress.demo", &[]),
    ("agent", "agent@redress.demo", &[]),
    ("merchant", "merchant@redress.demo", &["828844912590296", "851424736185314", "885708393473571"]),
    ("customer", "customer@redress.demo", &[]),
];
pub const PASSWORD: &str = "redress-demo-2026";

/// Everything: merchants, records, users and cases. Safe to run again.
pub async fn load_all(db: &Db, config: &crate::config::Config) -> anyhow::Result<String> {
    let summary = load(db).await?;
    let mut out = format!("{summary}\n");
    for (kind, text) in [(Kind::Journal, JOURNAL), (Kind::Settlement, SETTLEMENT)] {
        let report = import(db, &request(kind, "sample"), text.as_bytes(), None).await?;
        out += &format!("{} sample: {} rows ({} new)\n", kind.as_str(), report.rows, report.inserted);
        let mut generated = Vec::new();
        generate::write(kind, GENERATED_ROWS, 1, &mut generated)?;
        let report = import(db, &request(kind, "generated"), std::io::Cursor::new(generated), None).await?;
        out += &format!("{} generated: {} rows ({} new)\n", kind.as_str(), report.rows, report.inserted);
    }
    for (role, email, merchants) in USERS {
        let merchants: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
        // A second run finds the users already there.
        if users::find_by_email(db, email).await?.is_none() {
            accounts::add_user(db, role, email, &merchants, PASSWORD.to_owned()).await?;
        }
    }
    if cases_db::count(db).await? == 0 {
        let customer = users::find_by_email(db, "customer@redress.demo").await?.context("demo customer exists")?;
        let ctx = MatchContext::new(config);
        for line in CLAIMS.lines().filter(|l| !l.trim().is_empty()) {
            let input: ClaimInput = serde_json::from_str(line)?;
            let claim = input.validate(Currency::CNY, jiff::Timestamp::now()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let contact = Contact {
                email: customer.email.clone(),
                user_id: Some(customer.id),
                confirmed: true,
                lang: Lang::ZhCn,
            };
            let filing = cases::Filing {
                claim: &claim,
                occurred_text: input.occurred_at.as_deref().unwrap_or_default(),
                contact: &contact,
                via: "web",
                token_id: None,
                filing_key: None,
            };
            cases::file(db, &ctx, &filing).await?;
        }
        work_some_cases(db, &ctx).await?;
    }
    // Trouble found in the records before anyone complains (DESIGN.md §10).
    out += &crate::exceptions::demo::load(db, &MatchContext::new(config)).await?;
    out += &format!(
        "cases: {}\n\nSign in at the address `redress serve` prints, with password {PASSWORD}:\n",
        cases_db::count(db).await?
    );
    for (role, email, _) in USERS {
        out += &format!("  {role:<9} {email}\n");
    }
    Ok(out)
}

/// Moves a few filed cases on the way people would, so the demo shows every state a case
/// rests in (`closed` needs 30 quiet days, `submitted` lasts only until matching) and the desk
/// has a case of its own. Cases are found by their finding, in filing order.
async fn work_some_cases(db: &Db, ctx: &MatchContext<'_>) -> anyhow::Result<()> {
    let agent = users::find_by_email(db, "agent@redress.demo").await?.context("demo agent exists")?;
    let customer = users::find_by_email(db, "customer@redress.demo").await?.context("demo customer exists")?;
    let desk = Who { actor: Actor::Agent, user_id: Some(agent.id) };
    let holder = Who { actor: Actor::Customer, user_id: Some(customer.id) };
    let with_finding = |finding: &'static str| async move {
        let all = cases_db::of_customer(db, customer.id).await?;
        anyhow::Ok(all.into_iter().rev().find(|c| c.finding.map(|f| f.as_str()) == Some(finding)))
    };
    let step = |case: &cases_db::CaseRow, who: Who, kind: ActionKind, note: &str| {
        let input = ActionInput { note: Some(note.to_owned()), ..ActionInput::default() };
        (case.id, case.version, who, kind, input)
    };
    let mut steps = Vec::new();
    if let Some(c) = with_finding("single_debit").await? {
        steps.push(step(
            &c,
            desk,
            ActionKind::Reject,
            "只找到一笔扣款，未发现重复扣款。Only one debit was found: no duplicate charge.",
        ));
    }
    if let Some(c) = with_finding("refund_not_settled").await? {
        steps.push(step(&c, holder, ActionKind::Withdraw, "退款已到账。The refund has arrived."));
    }
    for (case_id, version, who, kind, input) in steps {
        let step = Step { case_id, expected_version: version, who, kind, input: &input, new_claim: None };
        act::act(db, ctx, step).await.map_err(|e| anyhow::anyhow!("demo case {case_id}: {e}"))?;
    }
    if let Some(c) = with_finding("ambiguous").await? {
        act::assign(db, c.id, c.version, desk, Some((agent.id, &agent.email)))
            .await
            .map_err(|e| anyhow::anyhow!("demo case {}: {e}", c.id))?;
    }
    Ok(())
}

const JOURNAL: &str = include_str!("../demo/journal.csv");
const SETTLEMENT: &str = include_str!("../demo/settlement.csv");
const CLAIMS: &str = include_str!("../demo/claims.jsonl");
/// A month of traffic besides the samples.
const GENERATED_ROWS: u64 = 20_000;

fn request(kind: Kind, name: &str) -> ImportRequest {
    ImportRequest {
        kind,
        file_name: format!("demo-{name}-{}.csv", kind.as_str()),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    }
}

pub async fn load(db: &Db) -> Result<DemoSummary, DbError> {
    let mut terminals = 0;
    for (merchant_id, name_zh, name_en, terms) in MERCHANTS {
        upsert_merchant(db, &NewMerchant { merchant_id, name_zh, name_en }).await?;
        for (terminal_id, location, location_en) in *terms {
            upsert_terminal(db, merchant_id, terminal_id, &Location { text: location, en: location_en }).await?;
            terminals += 1;
        }
    }
    Ok(DemoSummary { merchants: MERCHANTS.len(), terminals })
}

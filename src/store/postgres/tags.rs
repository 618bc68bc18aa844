//! Tags on PostgreSQL: the statements are `store::tags::sql`; counts are kept by triggers.

use async_trait::async_trait;

use super::{pg, PgStore};
use crate::store::tags::sql;
use crate::store::{StoreResult, TagCount, TagStore};

#[async_trait]
impl TagStore for PgStore {
    async fn popular_tags(&self, limit: u32) -> StoreResult<Vec<TagCount>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::POPULAR)).await?;
            let rows = c.query(&stmt, &[&i64::from(limit)]).await?;
            Ok(rows
                .iter()
                .map(|r| TagCount {
                    name: r.get(0),
                    count: r.get(1),
                })
                .collect())
        })
        .await
    }
}

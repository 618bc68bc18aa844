//! Tags on SQLite: the statements are `store::tags::sql`; counts are kept by triggers.

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::tags::sql;
use crate::store::{StoreResult, TagCount, TagStore};

#[async_trait]
impl TagStore for SqliteStore {
    async fn popular_tags(&self, limit: u32) -> StoreResult<Vec<TagCount>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::POPULAR)?;
            let rows = stmt.query_map([limit], |r| {
                Ok(TagCount {
                    name: r.get(0)?,
                    count: r.get(1)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}

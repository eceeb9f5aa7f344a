-- The forum tables exactly as the web app's Django migrations create them on
-- SQLite (users 0001, forum 0001 and 0002_attachment_soft_delete).
-- Applied only to a new database (the demo); on a database that already holds
-- the forum tables this migration is recorded as satisfied, never run.

CREATE TABLE "users_user" ("password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "uuid" char(32) NOT NULL UNIQUE);
CREATE TABLE "forum_category" ("id" char(32) NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL UNIQUE, "slug" varchar(120) NOT NULL UNIQUE, "description" text NOT NULL, "icon" varchar(50) NOT NULL, "display_order" integer NOT NULL, "is_active" bool NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "parent_id" char(32) NULL REFERENCES "forum_category" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_thread" ("id" char(32) NOT NULL PRIMARY KEY, "title" varchar(200) NOT NULL, "slug" varchar(250) NOT NULL UNIQUE, "excerpt" text NOT NULL, "is_pinned" bool NOT NULL, "is_locked" bool NOT NULL, "is_active" bool NOT NULL, "view_count" integer NOT NULL, "post_count" integer NOT NULL, "last_activity_at" datetime NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "author_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "category_id" char(32) NOT NULL REFERENCES "forum_category" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_post" ("id" char(32) NOT NULL PRIMARY KEY, "content_raw" text NOT NULL, "content_rich" text NULL CHECK ((JSON_VALID("content_rich") OR "content_rich" IS NULL)), "content_format" varchar(20) NOT NULL, "is_first_post" bool NOT NULL, "is_active" bool NOT NULL, "edited_at" datetime NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "author_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "edited_by_id" bigint NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "thread_id" char(32) NOT NULL REFERENCES "forum_thread" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_attachment" ("id" char(32) NOT NULL PRIMARY KEY, "image" varchar(100) NOT NULL, "original_filename" varchar(255) NOT NULL, "file_size" integer NOT NULL, "mime_type" varchar(100) NOT NULL, "display_order" integer NOT NULL, "alt_text" varchar(255) NOT NULL, "created_at" datetime NOT NULL, "post_id" char(32) NOT NULL REFERENCES "forum_post" ("id") DEFERRABLE INITIALLY DEFERRED, "deleted_at" datetime NULL, "is_active" bool NOT NULL);
CREATE TABLE "forum_reaction" ("id" char(32) NOT NULL PRIMARY KEY, "reaction_type" varchar(20) NOT NULL, "is_active" bool NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "post_id" char(32) NOT NULL REFERENCES "forum_post" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "unique_post_user_reaction" UNIQUE ("post_id", "user_id", "reaction_type"));
CREATE TABLE "forum_flaggedcontent" ("id" char(32) NOT NULL PRIMARY KEY, "content_type" varchar(20) NOT NULL, "flag_reason" varchar(50) NOT NULL, "explanation" text NOT NULL, "status" varchar(20) NOT NULL, "reviewed_at" datetime NULL, "moderator_notes" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "reporter_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "reviewed_by_id" bigint NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "post_id" char(32) NULL REFERENCES "forum_post" ("id") DEFERRABLE INITIALLY DEFERRED, "thread_id" char(32) NULL REFERENCES "forum_thread" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "forum_flag_content_type_consistency" CHECK ((("content_type" = 'post' AND "post_id" IS NOT NULL AND "thread_id" IS NULL) OR ("content_type" = 'thread' AND "post_id" IS NULL AND "thread_id" IS NOT NULL))));
CREATE TABLE "forum_moderationaction" ("id" char(32) NOT NULL PRIMARY KEY, "action_type" varchar(50) NOT NULL, "reason" text NOT NULL, "created_at" datetime NOT NULL, "affected_user_id" bigint NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "flag_id" char(32) NOT NULL REFERENCES "forum_flaggedcontent" ("id") DEFERRABLE INITIALLY DEFERRED, "moderator_id" bigint NOT NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "forum_userprofile" ("id" char(32) NOT NULL PRIMARY KEY, "trust_level" varchar(20) NOT NULL, "post_count" integer NOT NULL, "thread_count" integer NOT NULL, "helpful_count" integer NOT NULL, "last_seen_at" datetime NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "user_id" bigint NOT NULL UNIQUE REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX "forum_category_parent_id_c38ddcc9" ON "forum_category" ("parent_id");
CREATE INDEX "forum_cat_slug_idx" ON "forum_category" ("slug");
CREATE INDEX "forum_cat_parent_active_idx" ON "forum_category" ("parent_id", "is_active");
CREATE INDEX "forum_cat_order_idx" ON "forum_category" ("display_order");
CREATE INDEX "forum_thread_author_id_c72b456f" ON "forum_thread" ("author_id");
CREATE INDEX "forum_thread_category_id_dcc73d52" ON "forum_thread" ("category_id");
CREATE INDEX "forum_thread_slug_idx" ON "forum_thread" ("slug");
CREATE INDEX "forum_thread_cat_active_idx" ON "forum_thread" ("category_id", "is_active", "last_activity_at" DESC);
CREATE INDEX "forum_thread_pin_activity_idx" ON "forum_thread" ("is_pinned" DESC, "last_activity_at" DESC);
CREATE INDEX "forum_thread_author_idx" ON "forum_thread" ("author_id", "is_active");
CREATE INDEX "forum_thread_created_idx" ON "forum_thread" ("created_at" DESC);
CREATE INDEX "forum_post_author_id_609b7963" ON "forum_post" ("author_id");
CREATE INDEX "forum_post_edited_by_id_142f83f0" ON "forum_post" ("edited_by_id");
CREATE INDEX "forum_post_thread_id_f9fa0a56" ON "forum_post" ("thread_id");
CREATE INDEX "forum_post_thread_idx" ON "forum_post" ("thread_id", "is_active", "created_at");
CREATE INDEX "forum_post_author_idx" ON "forum_post" ("author_id", "is_active");
CREATE INDEX "forum_post_created_idx" ON "forum_post" ("created_at" DESC);
CREATE INDEX "forum_attachment_post_id_200c7fbc" ON "forum_attachment" ("post_id");
CREATE INDEX "forum_attachment_is_active_4bfc911a" ON "forum_attachment" ("is_active");
CREATE INDEX "forum_attach_active_idx" ON "forum_attachment" ("post_id", "is_active", "display_order");
CREATE INDEX "forum_reaction_post_id_bfba8e45" ON "forum_reaction" ("post_id");
CREATE INDEX "forum_reaction_user_id_4f8fa0ae" ON "forum_reaction" ("user_id");
CREATE INDEX "forum_react_post_type_idx" ON "forum_reaction" ("post_id", "reaction_type", "is_active");
CREATE INDEX "forum_react_user_idx" ON "forum_reaction" ("user_id", "is_active");
CREATE INDEX "forum_flaggedcontent_reporter_id_8de090aa" ON "forum_flaggedcontent" ("reporter_id");
CREATE INDEX "forum_flaggedcontent_reviewed_by_id_4032bc3b" ON "forum_flaggedcontent" ("reviewed_by_id");
CREATE INDEX "forum_flaggedcontent_post_id_04c85319" ON "forum_flaggedcontent" ("post_id");
CREATE INDEX "forum_flaggedcontent_thread_id_d6b68761" ON "forum_flaggedcontent" ("thread_id");
CREATE INDEX "forum_flag_status_idx" ON "forum_flaggedcontent" ("status", "created_at" DESC);
CREATE INDEX "forum_flag_type_status_idx" ON "forum_flaggedcontent" ("content_type", "status");
CREATE INDEX "forum_flag_reporter_idx" ON "forum_flaggedcontent" ("reporter_id", "created_at" DESC);
CREATE INDEX "forum_flag_reviewer_idx" ON "forum_flaggedcontent" ("reviewed_by_id", "reviewed_at" DESC);
CREATE INDEX "forum_moderationaction_affected_user_id_7e0d558e" ON "forum_moderationaction" ("affected_user_id");
CREATE INDEX "forum_moderationaction_flag_id_1ba13d7e" ON "forum_moderationaction" ("flag_id");
CREATE INDEX "forum_moderationaction_moderator_id_e7ab8c08" ON "forum_moderationaction" ("moderator_id");
CREATE INDEX "forum_modaction_flag_idx" ON "forum_moderationaction" ("flag_id", "created_at" DESC);
CREATE INDEX "forum_modaction_mod_idx" ON "forum_moderationaction" ("moderator_id", "created_at" DESC);
CREATE INDEX "forum_modaction_user_idx" ON "forum_moderationaction" ("affected_user_id", "created_at" DESC);
CREATE INDEX "forum_modaction_type_idx" ON "forum_moderationaction" ("action_type", "created_at" DESC);
CREATE INDEX "forum_profile_user_idx" ON "forum_userprofile" ("user_id");
CREATE INDEX "forum_profile_trust_idx" ON "forum_userprofile" ("trust_level", "helpful_count" DESC);

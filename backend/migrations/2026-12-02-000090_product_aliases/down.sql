DROP TABLE product_aliases;

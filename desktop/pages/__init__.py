"""The five pages of the main window: 案例库, 相似案例, 撰写, 检查, 设置."""
